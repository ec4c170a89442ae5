"""bc_tui.domain"""
