-- How many features match, counted only up to %(cap)s rows: a page over millions of rows stays
-- cheap, and beyond the cap numberMatched is left out (clients page until there is no "next").
SELECT count(*)
FROM (
    SELECT 1
    FROM {source} s
    WHERE {where}
    LIMIT %(cap)s
) c
