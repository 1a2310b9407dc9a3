"""Grading: comparing read answers with reference values, naming mistakes, carrying errors forward."""
