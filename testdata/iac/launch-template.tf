# A launch template and its Auto Scaling group, wired to amibump without
# reverts: Terraform never holds an AMI id. The template's ImageId is
# resolve:ssm:<parameter>, which EC2 resolves at every launch, and amibump
# writes each release's AMI id to that parameter.

variable "bootstrap_ami" {
  description = "AMI the parameter holds until amibump's first release (your base image)"
  type        = string
}

variable "subnet_ids" {
  type = list(string)
}

locals {
  name = "shop-web-prod-a"
}

# Created once; from then on amibump writes the value and Terraform leaves it alone.
resource "aws_ssm_parameter" "ami" {
  name      = "/amibump/${local.name}"
  type      = "String"
  data_type = "aws:ec2:image"
  value     = var.bootstrap_ami

  lifecycle {
    ignore_changes = [value]
  }
}

resource "aws_launch_template" "web" {
  name          = local.name
  image_id      = "resolve:ssm:${aws_ssm_parameter.ami.name}"
  instance_type = "t3.small"

  tags = {
    "amibump:app"   = "shop"
    "amibump:env"   = "prod"
    "amibump:layer" = "web"
    "amibump:group" = "a"
  }
}

resource "aws_autoscaling_group" "web" {
  name                = local.name
  min_size            = 2
  max_size            = 6
  vpc_zone_identifier = var.subnet_ids

  launch_template {
    id      = aws_launch_template.web.id
    version = "$Latest" # not aws_launch_template.web.latest_version
  }
}
