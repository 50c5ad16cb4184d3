"""The synthetic audio world: labelled scenes rendered deterministically from a seed."""
