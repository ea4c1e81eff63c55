-- The web page's search keys now include pedimento numbers read from M-file and Data Stage fields, company
-- names, part numbers and amounts (gateway/web/search.py): forget what was read, so every document is read
-- again by the search-key indexer of ``serve`` (in the background, in batches).
DELETE FROM search_keys;
DELETE FROM search_indexed;
