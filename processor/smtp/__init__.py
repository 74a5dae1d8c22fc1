"""SMTP knowledge: code registries (:mod:`processor.smtp.codes`), code explanations
(:mod:`processor.smtp.explain`) and extraction of codes from reply text.

Importing the package loads nothing; :mod:`processor.smtp.codes` reads its tables
on first import.
"""
