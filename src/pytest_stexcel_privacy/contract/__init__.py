"""The contract between an ERP module and the suite: the adapter, its stores, its declarations."""
