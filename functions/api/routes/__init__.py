"""Route modules, one per audience; importing them registers their routes on the app."""
