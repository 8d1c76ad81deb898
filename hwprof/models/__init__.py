"""What a MODEL argument means: a spec resolved to a module, and the layers it executes."""
