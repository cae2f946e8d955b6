"""Link, network and transport layer framing for the demo generator, and the pcapng writer."""
