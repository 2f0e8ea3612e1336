"""Sentiment: the tokenizer and sub-word pieces (text.py), SST-2, rt-polarity and your CSV
(datasets.py), and sentences made from VADER's lexicon (lexicon.py)."""
