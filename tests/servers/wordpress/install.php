<?php
// Installs the chanpub test site (run as www-data by setup.sh) and prints fresh
// Application Passwords for an administrator and an author as one JSON line.
$port = $argv[1] ?? '39081';
$_SERVER['HTTP_HOST'] = '127.0.0.1';
$_SERVER['SERVER_NAME'] = '127.0.0.1';
$_SERVER['SERVER_PORT'] = $port;
$_SERVER['REQUEST_URI'] = '/';
define('WP_INSTALLING', true);
require '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/user.php';
add_filter('pre_wp_mail', '__return_false');  // no mail from a test site

if (!is_blog_installed()) {
    wp_install('Chanpub Test Site', 'admin', 'admin@example.invalid', false, '',
               wp_generate_password(24));
}
if (get_option('permalink_structure') !== '/%postname%/') {
    global $wp_rewrite;
    $wp_rewrite->set_permalink_structure('/%postname%/');
    $wp_rewrite->flush_rules(false);
}
if (!get_user_by('login', 'author')) {
    wp_insert_user(['user_login' => 'author', 'user_pass' => wp_generate_password(24),
                    'user_email' => 'author@example.invalid', 'role' => 'author']);
}

function fresh_app_password(string $login): string {
    $user = get_user_by('login', $login);
    foreach (WP_Application_Passwords::get_user_application_passwords($user->ID) as $item) {
        if ($item['name'] === 'chanpub-tests') {
            WP_Application_Passwords::delete_application_password($user->ID, $item['uuid']);
        }
    }
    $created = WP_Application_Passwords::create_new_application_password(
        $user->ID, ['name' => 'chanpub-tests']);
    if (is_wp_error($created)) {
        fwrite(STDERR, $created->get_error_message() . "\n");
        exit(1);
    }
    return $created[0];
}

echo json_encode([
    'url' => "http://127.0.0.1:$port",
    'user' => 'admin',
    'password' => fresh_app_password('admin'),
    'author_user' => 'author',
    'author_password' => fresh_app_password('author'),
]), "\n";
