"""粤监管 on the phone: the field pages under /field (Flask blueprint, Jinja templates, vanilla JS)."""
