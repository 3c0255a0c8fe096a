"""Checking engines: sympy, z3/cvc5, proof checkers and the code sandbox.

Engines know nothing of records or runs. Heavy libraries are imported inside the
engine modules, never at package import.
"""
