"""What can be drawn: the layer registry, vector tiles, and the HTTP endpoints that serve them."""
