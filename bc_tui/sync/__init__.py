"""bc_tui.sync"""
