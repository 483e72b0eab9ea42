"""Statistics of removed obstacles: the declared tables, their frozen
releases and what the insights pages and open data show."""
