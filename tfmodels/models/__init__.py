"""Model builders, one module per family. Importing a module registers its builders."""
