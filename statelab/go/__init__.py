"""Go behaviours daprd shows to clients: its JSON decoder and encoders, strconv and net/url."""
