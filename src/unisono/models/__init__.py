"""Unisono networks. They map tensors to tensors; objectives and solvers live elsewhere."""
