"""Ratings: one per visit, from the counter's tablet, a keypad, or the tracking page."""
