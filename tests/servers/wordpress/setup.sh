#!/usr/bin/env bash
# A real WordPress on loopback for the `wordpress` channel tests (Debian 12, as root).
#
# Installs Debian's wordpress + MariaDB + Apache/mod_php when missing, starts MariaDB
# (unix socket only, --skip-networking) and a private Apache on 127.0.0.1:$CHANPUB_WP_PORT
# (default 39081) unless they already run, installs the site, and prints one JSON line:
#   {"url": ..., "user": ..., "password": ..., "author_user": ..., "author_password": ...}
# The passwords are fresh Application Passwords (WordPress cannot show old ones again).
# Idempotent; takes a second or two when everything is already installed and running.
set -euo pipefail

PORT="${CHANPUB_WP_PORT:-39081}"
HERE="$(cd "$(dirname "$0")" && pwd)"
RUN=/var/tmp/chanpub-wordpress
DB_NAME=chanpub_wp
DB_USER=chanpub_wp
DB_PASSWORD=chanpub-wp-local-only  # a throwaway database reachable only through the socket
PACKAGES="wordpress wordpress-theme-twentytwentythree mariadb-server apache2 libapache2-mod-php
  php-mysql php-gd php-curl php-xml php-mbstring php-imagick curl"

log() { echo "wordpress-setup: $*" >&2; }

install_packages() {
  local missing=()
  for package in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
    || { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
}

start_mariadb() {
  if mysqladmin --socket=/run/mysqld/mysqld.sock ping >/dev/null 2>&1; then return 0; fi
  log "starting MariaDB (socket only)"
  install -d -o mysql -g mysql /run/mysqld
  setsid mysqld_safe --skip-networking </dev/null >>"$RUN/mariadb.log" 2>&1 &
  for _ in $(seq 1 60); do
    mysqladmin --socket=/run/mysqld/mysqld.sock ping >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  log "MariaDB did not start; see $RUN/mariadb.log"; exit 1
}

create_database() {
  mysql -uroot <<SQL
CREATE DATABASE IF NOT EXISTS $DB_NAME CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON $DB_NAME.* TO '$DB_USER'@'localhost';
FLUSH PRIVILEGES;
SQL
}

write_wordpress_config() {
  install -d /etc/wordpress
  cat >/etc/wordpress/config-127.0.0.1.php <<PHP
<?php
// Written by chanpub's tests/servers/wordpress/setup.sh: a local test site only.
define('DB_NAME', '$DB_NAME');
define('DB_USER', '$DB_USER');
define('DB_PASSWORD', '$DB_PASSWORD');
define('DB_HOST', 'localhost');
define('WP_HOME', 'http://127.0.0.1:$PORT');
define('WP_SITEURL', 'http://127.0.0.1:$PORT');
define('WP_CONTENT_DIR', '/var/lib/wordpress/wp-content');
define('FS_METHOD', 'direct');
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('DISABLE_WP_CRON', true);
// Application Passwords over plain http are allowed only in a 'local' environment.
define('WP_ENVIRONMENT_TYPE', 'local');
PHP
  ln -sf config-127.0.0.1.php /etc/wordpress/config-localhost.php
  chown -R www-data:www-data /var/lib/wordpress/wp-content/uploads
}

write_apache_config() {
  cat >"$RUN/apache2.conf" <<CONF
ServerRoot /etc/apache2
ServerName 127.0.0.1
Listen 127.0.0.1:$PORT
PidFile $RUN/apache2.pid
Mutex file:$RUN default
User www-data
Group www-data
ErrorLog $RUN/apache-error.log
LogLevel warn
LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule rewrite_module /usr/lib/apache2/modules/mod_rewrite.so
LoadModule php_module /usr/lib/apache2/modules/libphp8.2.so
StartServers 2
MinSpareServers 1
MaxSpareServers 4
MaxRequestWorkers 8
TypesConfig /etc/mime.types
DirectoryIndex index.php index.html
<FilesMatch ".+\.php$">
    SetHandler application/x-httpd-php
</FilesMatch>
DocumentRoot /usr/share/wordpress
Alias /wp-content /var/lib/wordpress/wp-content
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory /usr/share/wordpress>
    Options FollowSymLinks
    AllowOverride None
    Require all granted
    # The rules WordPress would put in .htaccess, for pretty permalinks and /wp-json/.
    RewriteEngine On
    RewriteBase /
    RewriteRule ^index\.php$ - [L]
    RewriteCond %{REQUEST_FILENAME} !-f
    RewriteCond %{REQUEST_FILENAME} !-d
    RewriteRule . /index.php [L]
</Directory>
<Directory /var/lib/wordpress/wp-content>
    Options FollowSymLinks
    Require all granted
</Directory>
<Directory /usr/share/wordpress/wp-content>
    Options FollowSymLinks
    Require all granted
</Directory>
CONF
}

start_apache() {
  if [ -s "$RUN/apache2.pid" ] && kill -0 "$(cat "$RUN/apache2.pid")" 2>/dev/null; then
    return 0
  fi
  log "starting Apache on 127.0.0.1:$PORT"
  apache2 -f "$RUN/apache2.conf" -k start </dev/null >>"$RUN/apache-start.log" 2>&1
  for _ in $(seq 1 40); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/" && return 0
    sleep 0.25
  done
  log "Apache did not answer; see $RUN/apache-error.log"; exit 1
}

main() {
  install -d "$RUN"
  install_packages
  start_mariadb
  create_database
  write_wordpress_config
  write_apache_config
  start_apache
  runuser -u www-data -- php "$HERE/install.php" "$PORT"
}

main "$@"
