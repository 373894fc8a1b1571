"""The catalog's pages: the desk's (``desk``), the catalog editor's (``editor``) and the
portal's (``portal``)."""
