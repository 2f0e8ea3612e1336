"""Speech: audio I/O and log-mels (audio.py), FSDD, Speech Commands and your folders
(datasets.py), the synthetic voices (synth.py) and the augmentation (augment.py)."""
