"""Comparing read answers with reference values, naming mistakes, carrying errors forward."""
