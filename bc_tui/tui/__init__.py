"""bc_tui.tui"""
