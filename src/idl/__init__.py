"""Reproduction of the Leiden "Introduction to Deep Learning" assignment 1 report."""
