"""The catalog's forms: the desk's (``desk``), the catalog editor's (``editor``) and the
portal's order form (``portal``)."""
