"""bc_tui.connectors"""
