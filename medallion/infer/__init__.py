"""``medallion infer``: table declarations from a live database catalog or from landed files.

Needs the ``infer`` extra (SQLAlchemy, the PostgreSQL and MySQL drivers, ruamel.yaml). This
package's ``__init__`` and :mod:`medallion.infer.command` import none of it, so the
``medallion`` command starts without it; :func:`medallion.infer.command.infer` is the API.
"""
