"""Bring your own data: registers (entities) and reference layers from CSV, XLSX and GIS files.

``readers`` opens a file (encoding detected, CRS read from the file or given), ``columns`` maps its
headers to entity fields, ``coords`` converts coordinates to WGS 84, ``validate`` checks each row,
``entities`` stages good rows with COPY and upserts them, ``layers`` stores a layer of any geometry,
``report`` writes the bad rows with their reasons. Plain functions on a psycopg2 connection: the CLI
and the upload page are thin wrappers around them.
"""
