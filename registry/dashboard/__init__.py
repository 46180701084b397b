"""The dashboard (工作台): read-side figures and small server-rendered charts."""
