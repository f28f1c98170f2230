"""SVG drawings of histories (timelines, replica timelines, charts), with no widget in them."""
