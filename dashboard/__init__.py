"""The face of Zhengtu: the Dash app, its pages, the JSON API and the command line."""
