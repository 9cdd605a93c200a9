-- A layer's temporal extent as the caller sees it (row-level security applies to min and max).
SELECT min(s.{time_field}), max(s.{time_field})
FROM {source} s
