"""``python -m gateway``: the same command line as the ``immex-gateway`` script.

Guarded: a worker process (``gateway/workers.py``, started by ``forkserver``) imports this module again and must
not run the command line a second time."""

if __name__ == "__main__":
    from gateway.cli import main

    raise SystemExit(main())
