"""The supervision domain (粤监管): regulated entities, officers, tasks and cases."""
