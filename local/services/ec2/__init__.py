"""EC2 actions moto lacks: ExportImage / DescribeExportImageTasks,
CreateStoreImageTask / DescribeStoreImageTasks and Enable/DisableImageDeprecation.
``urls.dispatch`` answers those actions and leaves every other one to moto."""
