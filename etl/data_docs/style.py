"""The stylesheet inlined into every Data Docs page (etl/data_docs/offline.py) and the index.

Owned here instead of Bootstrap's from a CDN: it styles only the classes GX's templates use, so
pages read the same with no network. Severity badges: critical red, warning amber. "Failed only"
(the radio buttons GX wires to jQuery) filters with `:has()` alone.
"""

from __future__ import annotations

MARKER = '<meta name="churn-data-docs" content="offline">'  # a page that was rewritten already
STYLE = """
body{font-family:-apple-system,"Segoe UI",Roboto,"Helvetica Neue","Noto Sans","Liberation Sans",Arial,"DejaVu Sans",sans-serif;font-size:15px;
  line-height:1.45;color:#212529;margin:0;background:#fff}
a{color:#0b5ed7}
.navbar{display:flex;align-items:center;gap:1rem;padding:.4rem 1rem;border-bottom:1px solid #dee2e6}
.navbar nav{display:flex;align-items:center;gap:1rem}
.breadcrumb{display:flex;flex-wrap:wrap;list-style:none;margin:0;padding:0;gap:.4rem}
.breadcrumb-item+.breadcrumb-item::before{content:"/";padding-right:.4rem;color:#6c757d}
.container-fluid{padding:1rem 1.5rem}
.row{display:flex;flex-wrap:wrap;gap:0 1.5rem}
.col-12{flex:0 0 100%;min-width:0}
.col-6{flex:1 1 40%;min-width:18rem}
.col-md-2,.col-lg-2{flex:0 0 15rem;min-width:0}
.col-md-10,.col-lg-10{flex:1 1 0;min-width:0}
.ge-section{margin-bottom:1.5rem}
.alert{padding:.5rem .75rem;border-radius:4px;margin:.5rem 0}
.alert-secondary{background:#e9ecef;border:1px solid #d3d6d9}
h4,h5,h6{margin:.25rem 0}
.lead{font-size:1.05rem;color:#495057}
.card{border:1px solid #dee2e6;border-radius:4px;margin:.5rem 0}
.card-header{background:#f4f5f6;padding:.35rem .6rem;border-bottom:1px solid #dee2e6}
.card-body{padding:.5rem .6rem}
.collapse{display:block}
.nav{list-style:none;padding:0;margin:0}
.nav-link{display:block;padding:.15rem .25rem;text-decoration:none}
.table-responsive{overflow-x:auto}
table{border-collapse:collapse;width:100%;margin:.4rem 0}
th,td{border-top:1px solid #dee2e6;padding:.3rem .5rem;text-align:left;vertical-align:top}
thead th{border-bottom:2px solid #dee2e6;background:#f8f9fa}
.show-scrollbars{overflow:auto}
td .show-scrollbars{max-height:80vh}
ul{padding-inline-start:1.25rem}
code{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.85em}
.badge{display:inline-block;padding:.05em .45em;margin:.05em;border-radius:.25rem;background:#e9ecef;
  color:#212529;font-size:.88em;border:1px solid #ced4da;word-break:break-word}
.severity{font-weight:600;color:#fff;border:0}
.severity-critical{background:#b02a37}
.severity-warning{background:#f0ad4e;color:#212529}
.severity-info{background:#0b7285}
i.fas{font-style:normal;font-weight:600;white-space:nowrap}
.text-danger{color:#b02a37}.text-success{color:#146c43}.text-warning{color:#8a6d00}.text-info{color:#0b7285}
.btn-group label{margin-right:.75rem;cursor:pointer}
.cooltip .top{display:none}
.status-failed{color:#b02a37;font-weight:600}.status-warned{color:#8a6d00;font-weight:600}
.status-passed{color:#146c43;font-weight:600}
body:has(#option2:checked) tr:has(> td.hide-succeeded-validation-target-child){display:none}
body:has(#option2:checked) .ge-section:has(.hide-succeeded-validations-column-section-target-child){display:none}
"""
