"""Item pipelines of linkcrawler: what happens to items once a spider has produced them."""
