"""Member lists in, normalised companies and targets out."""
