"""Writes of the register: one function per use case, transactional. Pages, the admin, the
importer and (later) the API all call these."""
