"""Accounts, roles, sessions, API tokens, the audit log and personal-data masking.

No web framework here: the Flask glue lives in ``dashboard/auth.py``.
"""
