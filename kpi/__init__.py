"""Managers' KPIs: one set of definitions, computed set-based in PostgreSQL for any region and period.

``definitions`` names every KPI and its fact SQL (``sql/<id>.sql``); ``compute`` aggregates the facts for
a region, its children, a daily series and the records behind them; ``targets`` holds user-defined and
shipped (2020 work plan) targets with progress and a linear forecast; ``export`` writes the same
numbers to Excel and a one-page PDF briefing. Imports only ``geo`` (no web framework).
"""
