"""Dataset adapters that ship with ferbench (SynthFER, the generated dataset)."""
