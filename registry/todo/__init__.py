"""待办: everything the signed-in officer must act on, in due order (issue 18 point 2)."""
