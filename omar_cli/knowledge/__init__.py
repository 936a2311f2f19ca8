"""ACS150 knowledge: built-in entries, users' documents, retrieval and offline answers."""
