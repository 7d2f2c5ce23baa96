"""Bulk import of nominations from a CSV or XLSX file.

Two steps, as the staff page shows them: :func:`parse_upload` reads the file and
checks every row with the same rules as the form and the API (it saves
nothing); :func:`save` writes all the rows as draft nominations in one
transaction, or nothing at all.

Between the two requests the file waits in the database (:class:`ImportUpload`),
not on a server's disk: the app runs on several servers.  It is parsed again
on saving, so nothing the browser sends back is trusted.

The pieces: ``reading`` (the header, every row checked, each error with the
value as typed), ``columns`` (headers, categories, districts and medals in
kk/ru/en or as codes), ``example`` (the filled example's made-up person, whom
the import refuses), ``files`` (the empty template and the filled example, XLSX
with drop-down lists, or CSV), ``saving``, ``uploads``.
"""

from .columns import header_labels
from .example import example_values
from .files import build_csv, build_xlsx
from .reading import (
    COLUMNS,
    MAX_BYTES,
    MAX_ROWS,
    NOMINEE_COLUMNS,
    Preview,
    RowError,
    parse_upload,
)
from .saving import save
from .uploads import (
    UPLOAD_LIFETIME,
    ImportUpload,
    discard_upload,
    load_upload,
    store_upload,
)

__all__ = [
    "COLUMNS",
    "MAX_BYTES",
    "MAX_ROWS",
    "NOMINEE_COLUMNS",
    "UPLOAD_LIFETIME",
    "ImportUpload",
    "Preview",
    "RowError",
    "build_csv",
    "build_xlsx",
    "discard_upload",
    "example_values",
    "header_labels",
    "load_upload",
    "parse_upload",
    "save",
    "store_upload",
]
