import dlt
from dlt.sources.rest_api import rest_api_source

source = rest_api_source({
    "client": {
        "base_url": "https://api.example.com",
        "auth": {
            "type": "api_key",
            "name": "api_key",
            "api_key": dlt.secrets["api_key"],
            "location": "header"
        }
    },
    "resource_defaults": {
        "primary_key": "id",
        "write_disposition": "merge"
    },
    "resources": [
        {
            "name": "pages",
            "endpoint": {
                "path": "/v1/resource",
                "data_selector": "data",
                "paginator": {
                    "type": "offset",
                    "limit": 100
                },
                "error_handler": {
                    "retry_on_status_codes": [420, 429],
                    "max_retries": 3,
                    "backoff_factor": 62
                }
            }
        },
        {
            "name": "subscribers",
            "endpoint": {
                "path": "/v1/resource/subscribers",
                "data_selector": "data",
                "paginator": {
                    "type": "offset",
                    "limit": 100
                },
                "error_handler": {
                    "retry_on_status_codes": [420, 429],
                    "max_retries": 3,
                    "backoff_factor": 62
                }
            }
        }
        # Fix: the seed's `//` comment is not Python.
        # Additional resources can be added here following the same pattern
    ]
})
