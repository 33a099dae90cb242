"""Proof pages: the full proof of a reviewed head, the queue and recent reviews, as server-rendered HTML.

Pure: who may see what (`access`), what is kept (`retention`), what a page records
(`record`), what a page shows (`views`) and the HTML (`render`, `templates/`). The
service's store (`service.proof_store`) and routes (`service.pages`) do the I/O.
"""
