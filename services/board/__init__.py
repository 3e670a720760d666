"""`storywire board`: live stories on a web page and a JSON API."""
