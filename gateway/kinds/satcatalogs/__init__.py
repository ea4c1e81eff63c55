"""SAT's published catalog files (catCFDI ``.xls``, the Comercio Exterior ``.xls`` catalogs), imported by operators.

The ``satcfdi`` wheel carries one edition of SAT's catalogs; SAT publishes new ones many times a year, and an
invoice using a key newer than the installed edition is rejected although it is good (a false rejection).
``immex-gateway catalogs import FILE…`` reads SAT's own files (``workbook``: xls through xlrd, xlsx through
openpyxl), checks every sheet against the layout it expects (``layouts``, ``parse``: sheet and column names,
key formats, version and publication date from the sheet header) and stores the set atomically in the catalogs
folder (``imported``: one SQLite file written aside, fsynced and renamed over the old one, so the old catalogs
stay in force until the new set is complete). ``gateway.kinds.cfdi.catalogs`` and ``xsd`` read the imported
catalogs over the wheel's; each entry keeps its validity dates, checked against the invoice's ``Fecha``.

The same import loads the Anexo 22 appendices the pedimento checks read (``appendix_layouts``: appendix number,
catalog name, key format; ``appendices``: the gateway's JSON form, a sheet or a CSV), stored in the same set
file; ``gateway.kinds.pedimento.catalogs`` reads them over the package's.
"""
