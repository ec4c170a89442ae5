"""bc_tui.store"""
