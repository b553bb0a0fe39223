"""go-yaml (go.yaml.in/yaml/v4) look-alikes: its scalar rules, map-key order, decoding checks and byte-exact writer.

Shared by the Image Factory simulator (schematics are decoded and re-encoded as the real factory does) and the
Talos node simulator (machine configs are written as a Talos node writes them). Written for the sandbox from a
reading of go-yaml; nothing here is imported from the collection.

- :mod:`.scalars`: what a plain scalar resolves to, how a Go float or time prints;
- :mod:`.keys`: Go map keys (identity and natural sort order);
- :mod:`.nodes`: node trees and the representer (first choice of style);
- :mod:`.emit`: the block-style writer;
- :mod:`.decode`: decoding into a fixed record with known-fields checking.
"""
